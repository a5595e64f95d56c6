from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    default_limit = 100
    # Caps what one request may ask for; an unbounded limit also overflows SQL's OFFSET/LIMIT.
    max_limit = 1000

    # Past the largest bigint the database refuses the query; no list is that long.
    max_offset = 2**62

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), self.max_offset)
