// Package testfill sets every field of a value to a value of its own, so
// a test can tell when a field is lost or swapped on a way through code
// that names each field (a hand-written encoder, say): a field added later
// is filled too, and the test fails until the code names it.
package testfill

import (
	"reflect"
	"testing"
	"time"
)

// Struct fills every field of the struct ptr points to, recursively:
// strings with text(n) for a counter n that grows field by field, bools
// true, integers n, slices with two elements, times in UTC and in a +08:00
// zone by turns. A field of a kind it does not know fails t.
func Struct(t testing.TB, ptr any, text func(n int) string) {
	t.Helper()
	n := 0
	fill(t, reflect.ValueOf(ptr).Elem(), &n, text)
}

func fill(t testing.TB, v reflect.Value, n *int, text func(int) string) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(text(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * 1001)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n, text)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			loc := time.UTC
			if *n%2 == 0 {
				loc = time.FixedZone("", 8*3600)
			}
			v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 8, *n, *n, *n*1000, loc)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), n, text)
		}
	default:
		t.Fatalf("testfill: a field of kind %s: teach testfill (and the code under test) about it", v.Kind())
	}
}
