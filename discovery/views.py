def discovery_home(r):
    pass


describe_page = personas_page = differentiators_partial = discovery_home
