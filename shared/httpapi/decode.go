package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/ekolek/identity/shared/text"
)

// decode reads a JSON object body into dst: unknown fields, trailing data,
// wrong types and oversized bodies are client errors naming what is wrong.
// An empty body is allowed only when optional.
//
// JSON that two readers could read two ways is refused: a key given twice
// (encoding/json keeps the last, a WAF or a log reader may keep the first)
// and a key that names a field only case-insensitively (encoding/json would
// take "EMAIL" for "email"). Every string that reaches dst is in NFC and
// free of invisible characters (package text), except the fields tagged
// text:"verbatim" (passwords: compared byte for byte as typed, so that the
// hashes stored before stay good).
func decode(r *http.Request, dst any, optional bool) error {
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	if err != nil {
		return errInvalid("The request body could not be read.", nil)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 && optional {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return errInvalid("The request body must be a JSON object.", nil)
	}
	keys := json.NewDecoder(bytes.NewReader(data))
	keys.UseNumber()
	if err := checkKeys(keys, reflect.TypeOf(dst), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return errInvalid("The request body has data after the JSON object.", nil)
		}
		return normalizeText(reflect.ValueOf(dst), "")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return errInvalid("A field has the wrong type.", map[string]string{typeErr.Field: "must be " + jsonType(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errInvalid("The request has a field this route does not take.", map[string]string{fieldName(name): "unknown field"})
	}
	return errInvalid("The request body is not valid JSON.", nil)
}

// errNotJSON is any syntax error checkKeys meets (Decode reports the same).
var errNotJSON = errInvalid("The request body is not valid JSON.", nil)

// checkKeys reads one JSON value from dec, which is to be decoded into a
// value of type t (nil: not known), and refuses keys given twice in one
// object and keys that match a field of t only case-insensitively. path
// names where the value is, for the error's fields.
func checkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return errNotJSON
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch tok {
	case json.Delim('{'):
		fields := jsonFields(t)
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return errNotJSON
			}
			key, _ := tok.(string)
			name := key
			if path != "" {
				name = path + "." + key
			}
			if seen[key] {
				return errInvalid("The request gives a field twice.", map[string]string{fieldName(name): "given twice"})
			}
			seen[key] = true
			ft, ok := fields[key]
			if !ok {
				for f := range fields {
					if strings.EqualFold(f, key) {
						return errInvalid("The request has a field this route does not take; field names are case-sensitive.",
							map[string]string{fieldName(name): "unknown field; did you mean " + f + "?"})
					}
				}
			}
			if err := checkKeys(dec, ft, name); err != nil {
				return err
			}
		}
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if err := checkKeys(dec, elem, path); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return errNotJSON
	}
	return nil
}

// jsonFields maps the JSON names of struct type t's fields to their types
// (nil when t is not a struct).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if name := jsonName(f); name != "" {
			out[name] = f.Type
		}
	}
	return out
}

// jsonName is the name encoding/json reads field f under, or "" when it
// reads none.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// normalizeText puts every string reachable from v into NFC, or refuses the
// first that holds an invisible character, naming its field. Fields tagged
// text:"verbatim" are left as they came.
func normalizeText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return normalizeText(v.Elem(), path)
		}
	case reflect.String:
		s, err := text.Normalize(v.String())
		if err != nil {
			return errInvalid("A field holds invisible characters.", map[string]string{fieldName(path): err.Error()})
		}
		v.SetString(s)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := normalizeText(v.Index(i), path); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name := jsonName(f)
			if name == "" || f.Tag.Get("text") == "verbatim" {
				continue
			}
			if path != "" {
				name = path + "." + name
			}
			if err := normalizeText(v.Field(i), name); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldName is a field name as the error's fields show it: at most 64 bytes.
func fieldName(name string) string {
	if len(name) > 64 {
		return strings.ToValidUTF8(name[:64], "") + "…"
	}
	return name
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}
