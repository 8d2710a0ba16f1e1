"""URL configuration: login/logout, the landing page, health check, admin and each app's pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("billing.urls")),
    path("", include("billing.dashboard_urls")),
    path("", include("candidates.urls")),
    path("", include("placements.urls")),
    path("", include("audit.urls")),
    path("api/", include("config.api_urls")),
]
