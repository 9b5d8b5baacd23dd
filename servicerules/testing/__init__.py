"""servicerules.testing"""
