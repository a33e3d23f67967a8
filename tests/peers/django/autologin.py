"""The test peer's stand-ins for a login page: every browser is "jane" (so the browser
stub needs no form), and ID tokens carry her email."""
from django.contrib.auth import get_user_model, login
from oauth2_provider.oauth2_validators import OAuth2Validator


class AutoLoginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/o/authorize") and not request.user.is_authenticated:
            user = get_user_model().objects.get(username="jane")
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return self.get_response(request)


class Validator(OAuth2Validator):
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        return {"email": request.user.email, "preferred_username": request.user.username}
