"""Pages of scoring, one module a page: card (/me/, an RM's card), team (/team/), pay
(/hr/pay/), schemes (/schemes/). Each module's `urlpatterns` is included at the site root."""
