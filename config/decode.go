package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

var tomlLineRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

var primitiveType = reflect.TypeOf(toml.Primitive{})

// decodeTable decodes the TOML table in p into the struct dst with
// decodeFields. A value that is not a table is a type error; decodeTable
// then reports false and leaves dst alone.
func (l *loader) decodeTable(p toml.Primitive, dst reflect.Value, path toml.Key, label string) bool {
	// Asked for a map, PrimitiveDecode leaves it nil, with no error, when the
	// value is not a table: look at the value first.
	if v := l.value(p); !isTable(v) {
		l.typeError(label, "got %s, want a table", tomlTypeName(v))
		return false
	}
	var table map[string]toml.Primitive
	if err := l.md.PrimitiveDecode(p, &table); err != nil {
		l.typeError(label, "%s", trimTOMLError(err))
		return false
	}
	l.decodeFields(table, dst, path, label)
	return true
}

// decodeFields decodes the keys of a table into the fields of the struct
// dst by their toml tags, one key at a time, so that one value of the
// wrong type hides nothing else: it becomes a type error, and its field
// stays zero. Keys that keyTable does not list for the table are recorded
// as unknown. path is the table's key as MetaData names it, label its
// tomlpos label.
func (l *loader) decodeFields(table map[string]toml.Primitive, dst reflect.Value, path toml.Key, label string) {
	t := dst.Type()
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		fields[t.Field(i).Tag.Get("toml")] = i
	}
	tableName := path.String()
	// In a stable order: problems the index cannot place share a position.
	for _, key := range slices.Sorted(maps.Keys(table)) {
		p := table[key]
		keyPath := append(path[:len(path):len(path)], key)
		// keyTable decides; TestKeyTableMatchesFileShape keeps a field
		// for every key it lists.
		i, ok := fields[key]
		if !ok || !isKnownKey(tableName, key) {
			l.unknown[keyPath.String()] = true
			continue
		}
		keyLabel := key
		if label != "" {
			keyLabel = label + "." + key
		}
		l.decodeField(p, dst.Field(i), keyPath, keyLabel)
	}
}

// decodeField decodes one value into the field f. A toml.Primitive field
// keeps the value for later; a slice of structs takes an array of tables.
func (l *loader) decodeField(p toml.Primitive, f reflect.Value, path toml.Key, label string) {
	switch {
	case f.Type() == primitiveType:
		f.Set(reflect.ValueOf(p))
		return
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
		var elems []toml.Primitive
		if err := l.md.PrimitiveDecode(p, &elems); err != nil {
			l.typeError(label, "got %s, want [[%s]] tables", l.tomlType(p), path[len(path)-1])
			return
		}
		f.Set(reflect.MakeSlice(f.Type(), len(elems), len(elems)))
		for k, e := range elems {
			l.decodeTable(e, f.Index(k), path, fmt.Sprintf("%s[%d]", label, k))
		}
		return
	}
	err := l.md.PrimitiveDecode(p, f.Addr().Interface())
	if err == nil {
		return
	}
	f.Set(reflect.Zero(f.Type())) // a pointer may have been allocated
	var pe toml.ParseError
	got, want := l.tomlType(p), goTypeName(f.Type())
	switch {
	case errors.As(err, &pe):
		l.typeError(label, "%s", pe.Message) // from an UnmarshalTOML method
	case got == want:
		l.typeError(label, "%s", trimTOMLError(err))
	default:
		l.typeError(label, "got %s, want %s", got, want)
	}
}

func (l *loader) typeError(label, format string, args ...any) {
	l.typeErrs = append(l.typeErrs, typeError{label: label, msg: fmt.Sprintf(format, args...)})
	l.bad[label] = true
}

// hasTypeError reports whether the key with the label, or any key inside
// it, had a value of the wrong type.
func (l *loader) hasTypeError(label string) bool {
	for bad := range l.bad {
		if bad == label || strings.HasPrefix(bad, label+".") || strings.HasPrefix(bad, label+"[") {
			return true
		}
	}
	return false
}

// value returns the value in p as the toml package represents it: string,
// int64, map[string]any and so on. Decoding into an empty interface only
// copies the value, so it cannot fail.
func (l *loader) value(p toml.Primitive) any {
	var v any
	_ = l.md.PrimitiveDecode(p, &v)
	return v
}

// tomlType names the TOML type of the value in p.
func (l *loader) tomlType(p toml.Primitive) string { return tomlTypeName(l.value(p)) }

func isTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// goTypeName names the TOML type a field of type t takes, the way
// tomlTypeName names values.
func goTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Struct, reflect.Map:
		return "a table"
	case reflect.Slice:
		return "an array"
	}
	return t.String()
}

func isPrimitiveSet(p toml.Primitive) bool { return !reflect.ValueOf(p).IsZero() }

func trimTOMLError(err error) string {
	msg := err.Error()
	if m := tomlLineRE.FindStringSubmatch(msg); m != nil {
		return m[3]
	}
	return strings.TrimPrefix(msg, "toml: ")
}
