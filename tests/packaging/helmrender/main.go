// helmrender renders a Helm 3 chart the way `helm template` does, for machines without a
// helm binary: Go's text/template with the Sprig function library (both are what Helm is
// built on) plus the functions and objects Helm adds itself.
//
// Usage: helmrender [-name quiver] [-namespace default] [-f values.yaml ...] [-notes FILE] CHART
//
// Output: every rendered template under templates/ (files starting with "_" only define
// helpers, NOTES.txt goes to -notes), each as a YAML document preceded by
// "---\n# Source: <chart>/templates/<file>", like `helm template`.
//
// Faithful to Helm where charts commonly break:
//   - values are read like Helm reads them (YAML -> JSON), so every number is a float64
//     and a template that prints a large integer without `int` shows 6.7108864e+07 as Helm
//     would;
//   - -f files are merged over values.yaml key by key (maps deeply, a null deletes);
//   - missing keys render as empty strings (Helm's missingkey=zero + "<no value>" removal);
//   - include, tpl, toYaml, fromYaml, toJson, fromJson, required, fail, lookup (empty), and
//     .Release, .Chart, .Values, .Capabilities, .Template.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v3"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// readYAMLAsJSON decodes YAML and re-decodes it through JSON, as sigs.k8s.io/yaml (used by
// Helm) does, so maps are map[string]interface{} and numbers float64.
func readYAMLAsJSON(data []byte) (map[string]interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, fmt.Errorf("top level is not a map: %w", err)
	}
	return out, nil
}

// mergeValues lays override over base, recursing into maps; a null in override removes
// the key (Helm's documented way to delete a default).
func mergeValues(base, override map[string]interface{}) map[string]interface{} {
	for k, v := range override {
		if v == nil {
			delete(base, k)
			continue
		}
		bm, baseIsMap := base[k].(map[string]interface{})
		om, overIsMap := v.(map[string]interface{})
		if baseIsMap && overIsMap {
			base[k] = mergeValues(bm, om)
		} else {
			base[k] = v
		}
	}
	return base
}

// toYAML mirrors Helm's toYaml: JSON first (so only JSON types survive), then YAML with
// two-space indentation and no trailing newline.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var generic interface{}
	if err := yaml.Unmarshal(j, &generic); err != nil {
		return ""
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(generic); err != nil {
		return ""
	}
	_ = enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m, err := readYAMLAsJSON([]byte(s))
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	return m
}

func toJSON(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(j)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// apiVersions answers .Capabilities.APIVersions.Has for the APIs the renderer assumes a
// current cluster (Kubernetes 1.28) serves.
type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type renderer struct {
	root     *template.Template
	chartDir string
	chartRef string // "<chart name>/templates"
}

func (r *renderer) funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	// Helm removes these two for safety: a chart must not read the renderer's environment.
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil // like `helm template`: no cluster to ask
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := r.root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := r.root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %w", err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("tpl: %w", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

// load parses every file under templates/ into one template set, each named
// "<chart>/templates/<relative path>" as Helm names them (so include of a file works).
func (r *renderer) load() ([]string, error) {
	r.root = template.New("chart").Option("missingkey=zero")
	r.root.Funcs(r.funcs())
	var names []string
	tdir := filepath.Join(r.chartDir, "templates")
	err := filepath.Walk(tdir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tdir, path)
		name := r.chartRef + "/" + filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := r.root.New(name).Parse(string(data)); err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		names = append(names, name)
		return nil
	})
	sort.Strings(names)
	return names, err
}

func capitalizedChart(meta map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range meta {
		if k == "" {
			continue
		}
		out[strings.ToUpper(k[:1])+k[1:]] = v
	}
	for _, k := range []string{"Name", "Version", "AppVersion", "Description", "Type"} {
		if _, ok := out[k]; !ok {
			out[k] = ""
		}
	}
	return out
}

func run() error {
	var files valueFiles
	name := flag.String("name", "quiver", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	notesOut := flag.String("notes", "", "write the rendered NOTES.txt to this file")
	flag.Var(&files, "f", "values file merged over values.yaml (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		return errors.New("usage: helmrender [-name N] [-namespace NS] [-f values.yaml]... CHART_DIR")
	}
	chartDir := flag.Arg(0)

	chartData, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	meta, err := readYAMLAsJSON(chartData)
	if err != nil {
		return fmt.Errorf("Chart.yaml: %w", err)
	}
	if meta["apiVersion"] != "v2" {
		return fmt.Errorf("Chart.yaml: apiVersion must be v2, got %v", meta["apiVersion"])
	}
	chartName, _ := meta["name"].(string)
	if chartName == "" {
		return errors.New("Chart.yaml: name is required")
	}

	values := map[string]interface{}{}
	if data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml")); err == nil {
		if values, err = readYAMLAsJSON(data); err != nil {
			return fmt.Errorf("values.yaml: %w", err)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		override, err := readYAMLAsJSON(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		values = mergeValues(values, override)
	}

	r := &renderer{chartDir: chartDir, chartRef: chartName + "/templates"}
	names, err := r.load()
	if err != nil {
		return err
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  capitalizedChart(meta),
		"Release": map[string]interface{}{
			"Name": *name, "Namespace": *namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{
				"Version": "v1.28.0", "Major": "1", "Minor": "28", "GitVersion": "v1.28.0",
			},
			"APIVersions": apiVersions{"v1", "apps/v1", "policy/v1", "networking.k8s.io/v1"},
		},
	}

	var out strings.Builder
	for _, tname := range names {
		base := filepath.Base(tname)
		if strings.HasPrefix(base, "_") {
			continue
		}
		scope := map[string]interface{}{}
		for k, v := range top {
			scope[k] = v
		}
		scope["Template"] = map[string]interface{}{"Name": tname, "BasePath": r.chartRef}
		var buf bytes.Buffer
		if err := r.root.ExecuteTemplate(&buf, tname, scope); err != nil {
			return fmt.Errorf("render %s: %w", tname, err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			if *notesOut != "" {
				if err := os.WriteFile(*notesOut, []byte(text), 0o644); err != nil {
					return err
				}
			}
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", tname, strings.TrimSpace(text))
	}
	_, err = os.Stdout.WriteString(out.String())
	return err
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "helmrender:", err)
		os.Exit(1)
	}
}
