"""Local stand-in for Amazon API Gateway (REST and HTTP APIs with http_proxy integrations)."""
