"""A DynamoDB-compatible server for the local stack and the tests (moto's DynamoDB backend)."""
