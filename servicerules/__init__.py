"""servicerules: checkable customer-service policies."""
