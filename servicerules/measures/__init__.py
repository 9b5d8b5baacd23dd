"""servicerules.measures"""
