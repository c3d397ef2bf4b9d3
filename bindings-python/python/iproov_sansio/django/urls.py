"""``path("iproov/", include("iproov_sansio.django.urls"))``: every path under the mount goes to
the one view, so what is not a route answers core's 404/405 in its JSON shape."""

from django.urls import path, re_path

from . import views

app_name = "iproov"
urlpatterns = [
    path("", views.journey, name="page"),
    re_path(r"^(?P<rest>.+)\Z", views.journey, name="journey"),
]
