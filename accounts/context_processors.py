def roles(request):
    """Expose the signed-in user's roles to templates for navigation."""
    user = getattr(request, "user", None)
    names = user.role_names if user is not None and user.is_authenticated else frozenset()
    return {"user_roles": names, "help_guide": help_guide_for(names)}


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
