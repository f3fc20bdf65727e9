"""The regulator's page (``/``) and the SMUR team's page (``/smur``), served by the API.

``router`` contains the pages, their static files and the small JSON endpoints the pages
read (commune completion, map layers, page settings). Its texts come from the
catalogue file ``dispatch/catalogue/web.yaml``.
"""

from dispatch.web.routes import router

__all__ = ["router"]
