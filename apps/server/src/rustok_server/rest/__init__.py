"""REST: module routes under ``/api/v1/<slug>/``, problem details, OpenAPI, Swagger UI."""
