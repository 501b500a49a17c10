package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
)

// pageParams reads the limit and cursor every listing takes, noting what is
// wrong in fields; def is the limit when none is given.
func pageParams(query url.Values, fields map[string]string, def int) (int, string) {
	limit := def
	if s := query.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			fields["limit"] = "must be a whole number from 1 to 200"
		}
		limit = n
	}
	cursor := query.Get("cursor")
	if len(cursor) > 2048 {
		fields["cursor"] = "not a cursor from this listing"
	}
	return limit, cursor
}

// writePage answers a listing: the items under key, and the cursor of the
// next page (null on the last; a page may be short while it is not).
func writePage[T any](w http.ResponseWriter, key string, items []T, next string) {
	resp := map[string]any{key: items, "next_cursor": nil}
	if next != "" {
		resp["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, resp)
}
