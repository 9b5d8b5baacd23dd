"""servicerules.model"""
