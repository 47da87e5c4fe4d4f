def roles(request):
    """Expose the signed-in user's roles to templates for navigation."""
    user = getattr(request, "user", None)
    names = user.role_names if user is not None and user.is_authenticated else frozenset()
    return {"user_roles": names}
