"""servicerules.batch"""
