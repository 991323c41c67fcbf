"""Form values as the tests type them."""


def kwargs_text(**arguments):
    """Extra keyword arguments in the form's syntax (the Galaxy-ML tools'): ``key=value, key2=(1, 2)``."""
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())
