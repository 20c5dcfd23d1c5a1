"""The staff dashboard: the hand-off queue, unanswered questions and trends, behind a login.

A self-contained Starlette application, to be mounted at /staff by the main web app:
`Mount("/staff", app=create_staff_app(StaffConfig.from_env()), name="staff")`.
"""

from visafaq.web.staff.app import StaffConfig, create_staff_app

__all__ = ["StaffConfig", "create_staff_app"]
