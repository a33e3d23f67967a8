"""A strict OAuth 2.0 / OIDC provider (django-oauth-toolkit) for the httplens tests.

Confidential clients with HTTP Basic, client credentials, PKCE, refresh rotation,
revocation, and /o/userinfo/ answering 401 for a revoked token. The database path
comes from DJANGO_DB (setup.sh migrates one copy; tests run on a copy of it) and the
issuer from PEER_ISSUER (http://127.0.0.1:PORT/o).
"""
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = "httplens-test-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "autologin.AutoLoginMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB", os.path.join(BASE_DIR, "db.sqlite3")),
    }
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]


def _signing_key():
    """One RSA key per database, kept beside it (ID tokens must verify across restarts)."""
    path = DATABASES["default"]["NAME"] + ".key.pem"
    if not os.path.exists(path):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with open(path, "wb") as f:
            f.write(pem)
    with open(path) as f:
        return f.read()


OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _signing_key(),
    "OIDC_ISS_ENDPOINT": os.environ.get("PEER_ISSUER", ""),
    "OAUTH2_VALIDATOR_CLASS": "autologin.Validator",
    "SCOPES": {"openid": "OpenID", "email": "Email", "read": "Read"},
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("ACCESS_TTL", "3600")),
}
