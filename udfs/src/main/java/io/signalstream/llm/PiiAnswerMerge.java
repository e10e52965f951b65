package io.signalstream.llm;

import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiEntity;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PII agent's answer in the job's shape: the local recognizers' spans ({@link PiiDetector})
 * plus the spans of every entity the model named that occurs in the original message, merged.
 */
final class PiiAnswerMerge {

    // The name finder's findings are cached: the prompt's redaction has already met the message.
    private static final PiiDetector PII = new PiiDetector("US", true, true);

    /** Score given to a span found only by the model. */
    private static final double MODEL_SCORE = 0.7;

    private PiiAnswerMerge() {}

    /**
     * Merges the local recognizers' spans with the model's. The model saw the redacted text, so its
     * placeholders ({@code <...>}) are skipped; each other entity text is located at every
     * occurrence in {@code original} and kept where it overlaps no span found so far.
     *
     * @param original the original (unredacted) message
     * @param answer the model's answer: {@code {"entities": [{"type", "text"}, ...]}}
     * @return {@code has_pii} (boolean), {@code entities} (list of {@code type}, {@code start},
     *     {@code end} (character offsets into {@code original}, end exclusive), {@code score}),
     *     sorted by start, and {@code redacted_text} made from all of them
     */
    static Map<String, Object> merge(String original, JsonNode answer) {
        List<PiiEntity> spans = new ArrayList<>(PII.detect(original));
        for (JsonNode e : answer.path("entities")) {
            String text = e.path("text").asText("").strip();
            if (text.isEmpty() || text.startsWith("<")) {
                continue;
            }
            int from = 0;
            int at;
            while ((at = original.indexOf(text, from)) >= 0) {
                PiiEntity candidate =
                        new PiiEntity(
                                e.path("type").asText("OTHER"),
                                at,
                                at + text.length(),
                                MODEL_SCORE,
                                text);
                if (spans.stream().noneMatch(candidate::overlaps)) {
                    spans.add(candidate);
                }
                from = at + text.length();
            }
        }
        spans.sort((a, b) -> Integer.compare(a.start(), b.start()));
        List<Map<String, Object>> entities = new ArrayList<>();
        for (PiiEntity p : spans) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", p.type());
            m.put("start", p.start());
            m.put("end", p.end());
            m.put("score", p.score());
            entities.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("has_pii", !spans.isEmpty());
        out.put("entities", entities);
        out.put("redacted_text", PII.redact(original, spans));
        return out;
    }
}
