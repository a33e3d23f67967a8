"""Creates the user and the OAuth clients the tests use (run once by setup.sh)."""


def run():
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import Application

    user, _ = get_user_model().objects.get_or_create(
        username="jane", defaults={"email": "jane@example.test"}
    )
    Application.objects.filter(client_id__in=["httplens-web", "httplens-robot"]).delete()
    Application.objects.create(
        name="httplens web",
        client_id="httplens-web",
        client_secret="web-secret-123",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1/callback",
        skip_authorization=True,
        algorithm=Application.RS256_ALGORITHM,
        user=user,
    )
    Application.objects.create(
        name="httplens robot",
        client_id="httplens-robot",
        client_secret="robot-secret-123",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        user=user,
    )
