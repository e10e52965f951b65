package io.signalstream.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The subset of {@code kustomize build} the manifests use, in Java: {@code resources} (files and
 * directories), {@code namespace}, {@code labels} and {@code patches} with a patch file naming its
 * target by kind and name. A patch of a custom resource (no OpenAPI schema) is a JSON merge patch,
 * as kustomize applies it: maps merge, {@code null} deletes a key, lists are replaced; {@code
 * $patch: delete} removes the object. Any other kustomization field fails, so the renderer never
 * silently ignores something kustomize would do.
 */
final class Kustomize {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final Set<String> SUPPORTED =
            Set.of("apiVersion", "kind", "resources", "namespace", "labels", "patches");

    private Kustomize() {}

    /** Every document of a (multi-document) YAML file, as trees. */
    static List<ObjectNode> readAll(Path file) throws IOException {
        List<ObjectNode> docs = new ArrayList<>();
        try (YAMLParser p = (YAMLParser) YAML.getFactory().createParser(file.toFile())) {
            Iterator<JsonNode> it = YAML.readValues(p, JsonNode.class);
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n != null && n.isObject()) {
                    docs.add((ObjectNode) n);
                }
            }
        }
        return docs;
    }

    /** Renders the kustomization in {@code dir}. */
    static List<ObjectNode> build(Path dir) throws IOException {
        ObjectNode k = (ObjectNode) YAML.readTree(dir.resolve("kustomization.yaml").toFile());
        k.fieldNames()
                .forEachRemaining(
                        f -> {
                            if (!SUPPORTED.contains(f)) {
                                throw new IllegalArgumentException(
                                        dir + ": unsupported kustomization field " + f);
                            }
                        });
        List<ObjectNode> objects = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                objects.addAll(build(p));
            } else {
                objects.addAll(readAll(p));
            }
        }
        for (JsonNode patchRef : k.path("patches")) {
            if (patchRef.size() != 1 || !patchRef.has("path")) {
                throw new IllegalArgumentException(
                        dir + ": only `- path: FILE` patches are supported");
            }
            for (ObjectNode patch : readAll(dir.resolve(patchRef.get("path").asText()))) {
                applyPatch(objects, patch, dir);
            }
        }
        for (JsonNode l : k.path("labels")) {
            for (ObjectNode o : objects) {
                ObjectNode labels = meta(o).with("labels");
                l.path("pairs")
                        .fields()
                        .forEachRemaining(e -> labels.set(e.getKey(), e.getValue()));
            }
        }
        if (k.hasNonNull("namespace")) {
            String ns = k.get("namespace").asText();
            for (ObjectNode o : objects) {
                meta(o).put("namespace", ns);
                if ("RoleBinding".equals(o.path("kind").asText())) {
                    for (JsonNode s : o.path("subjects")) {
                        if ("ServiceAccount".equals(s.path("kind").asText())) {
                            ((ObjectNode) s).put("namespace", ns);
                        }
                    }
                }
            }
        }
        return objects;
    }

    private static void applyPatch(List<ObjectNode> objects, ObjectNode patch, Path dir) {
        String kind = patch.path("kind").asText();
        String name = patch.path("metadata").path("name").asText();
        for (int i = 0; i < objects.size(); i++) {
            ObjectNode o = objects.get(i);
            if (kind.equals(o.path("kind").asText())
                    && name.equals(meta(o).path("name").asText())) {
                if ("delete".equals(patch.path("$patch").asText())) {
                    objects.remove(i);
                } else {
                    mergePatch(o, patch);
                }
                return;
            }
        }
        throw new IllegalArgumentException(
                dir + ": patch target " + kind + "/" + name + " not found");
    }

    /** RFC 7386 JSON merge patch of {@code target}, in place. */
    static void mergePatch(ObjectNode target, JsonNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode value = e.getValue();
            if (value.isNull()) {
                target.remove(e.getKey());
            } else if (value.isObject() && target.get(e.getKey()) instanceof ObjectNode t) {
                mergePatch(t, value);
            } else if (value.isObject()) {
                ObjectNode fresh = target.objectNode();
                mergePatch(fresh, value);
                target.set(e.getKey(), fresh);
            } else {
                target.set(e.getKey(), value.deepCopy());
            }
        }
    }

    private static ObjectNode meta(ObjectNode o) {
        return o.with("metadata");
    }

    /** The object of a kind and name, or an exception listing what there is. */
    static ObjectNode find(List<ObjectNode> objects, String kind, String name) {
        for (ObjectNode o : objects) {
            if (kind.equals(o.path("kind").asText())
                    && name.equals(o.path("metadata").path("name").asText())) {
                return o;
            }
        }
        throw new AssertionError("no " + kind + "/" + name + " in " + ids(objects));
    }

    /** {@code Kind/name} of every object. */
    static List<String> ids(List<ObjectNode> objects) {
        List<String> ids = new ArrayList<>();
        for (ObjectNode o : objects) {
            ids.add(o.path("kind").asText() + "/" + o.path("metadata").path("name").asText());
        }
        return ids;
    }
}
