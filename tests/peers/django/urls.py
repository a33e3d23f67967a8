"""Routes: the toolkit under /o/ (authorize, token, revoke_token, userinfo, discovery)."""
from django.urls import include, path

urlpatterns = [path("o/", include("oauth2_provider.urls", namespace="oauth2_provider"))]
