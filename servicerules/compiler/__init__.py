"""servicerules.compiler"""
