package io.signalstream.agents.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test access to the public data sets in {@code shared/data}, found by walking up from the working
 * directory (the repository's {@code ../shared} in CI). Non-commercial sets (airline tweets) are
 * only read at test time, never copied into the repository.
 */
final class SharedData {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path root;
    private static Map<String, List<JsonNode>> conversations;

    private SharedData() {}

    /** Returns {@code shared/data}, failing with a clear message if it cannot be found. */
    static synchronized Path dataDir() {
        if (root == null) {
            Path dir = Path.of("").toAbsolutePath();
            while (dir != null) {
                Path candidate = dir.resolve("shared").resolve("data");
                if (Files.isDirectory(candidate)) {
                    root = candidate;
                    return root;
                }
                dir = dir.getParent();
            }
            throw new IllegalStateException(
                    "shared/data not found walking up from "
                            + Path.of("").toAbsolutePath()
                            + "; expected the shared directory beside"
                            + " the repository (../shared)");
        }
        return root;
    }

    static Path file(String relative) {
        Path p = dataDir().resolve(relative);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("missing shared data file " + p);
        }
        return p;
    }

    static JsonNode readJson(String relative) {
        try {
            return JSON.readTree(file(relative).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** IBM TWCC dev conversations: conversation id to its messages in turn order. */
    static synchronized Map<String, List<JsonNode>> conversations() {
        if (conversations != null) {
            return conversations;
        }
        Map<String, List<JsonNode>> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file("conversations/ibm-twcc-dev.jsonl"))) {
                if (!line.isBlank()) {
                    JsonNode n = JSON.readTree(line);
                    out.computeIfAbsent(n.get("conversation_id").asText(), k -> new ArrayList<>())
                            .add(n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.values()
                .forEach(
                        l ->
                                l.sort(
                                        (a, b) ->
                                                Integer.compare(
                                                        a.get("turn_index").asInt(),
                                                        b.get("turn_index").asInt())));
        conversations = out;
        return out;
    }

    /** The message text of one conversation turn. */
    static String message(String conversationId, int turnIndex) {
        return conversations().get(conversationId).stream()
                .filter(n -> n.get("turn_index").asInt() == turnIndex)
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalStateException(
                                        "no turn " + turnIndex + " in " + conversationId))
                .get("message")
                .asText();
    }

    /** The transcript of one conversation. */
    static List<Turn> transcript(String conversationId) {
        List<Turn> turns = new ArrayList<>();
        for (JsonNode n : conversations().get(conversationId)) {
            turns.add(new Turn(n.get("sender").asText(), n.get("message").asText()));
        }
        return turns;
    }

    /** Reads an RFC 4180 CSV file with a header row into maps keyed by column name. */
    static List<Map<String, String>> readCsv(String relative) {
        String s;
        try {
            s = Files.readString(file(relative), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    i++;
                }
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
            } else {
                field.append(c);
            }
        }
        if (field.length() > 0 || !row.isEmpty()) {
            row.add(field.toString());
            rows.add(row);
        }
        List<String> header = rows.get(0);
        List<Map<String, String>> out = new ArrayList<>();
        for (List<String> r : rows.subList(1, rows.size())) {
            if (r.size() != header.size()) {
                throw new IllegalStateException(
                        "CSV row with "
                                + r.size()
                                + " fields, expected "
                                + header.size()
                                + ": "
                                + r);
            }
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i < header.size(); i++) {
                m.put(header.get(i), r.get(i));
            }
            out.add(m);
        }
        return out;
    }
}
