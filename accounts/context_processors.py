from .signing import signs_by_reauthentication


def roles(request):
    """Expose the signed-in user's roles to templates for navigation, the help guide of
    their role, and whether the user signs by re-authenticating at the identity provider
    (an SSO account) or by password."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    names = user.role_names if signed_in else frozenset()
    return {
        "user_roles": names,
        "help_guide": help_guide_for(names),
        # Called by the template only where a sign form is shown.
        "signs_by_reauthentication": (lambda: signs_by_reauthentication(user))
        if signed_in
        else False,
    }


# The help guide (core/guides/) a role's "How do I…?" link opens, first match wins.
ROLE_GUIDES = (
    ("compliance", "compliance"),
    ("field_lead", "field-lead"),
    ("brand", "brand"),
    ("access", "reviewer"),
    ("medical", "reviewer"),
    ("admin", "admin"),
)


def help_guide_for(roles) -> str:
    return next((guide for role, guide in ROLE_GUIDES if role in roles), "index")
