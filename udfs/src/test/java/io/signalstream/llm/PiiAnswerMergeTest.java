package io.signalstream.llm;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The model's pii answer merged with the local recognizers, names included. */
class PiiAnswerMergeTest {

    @Test
    @SuppressWarnings("unchecked")
    void localNamesAndModelEntitiesAreMergedWithoutOverlap() throws Exception {
        String text = "Hi, my name is Laura Jimenez and I work at Globex, mail laura@globex.com";
        // The model names the person too (overlapping the local finding) and the company.
        Map<String, Object> merged =
                PiiAnswerMerge.merge(
                        text,
                        new ObjectMapper()
                                .readTree(
                                        "{\"entities\": [{\"type\": \"PERSON\", \"text\": \"Laura"
                                                + " Jimenez\"}, {\"type\": \"ORGANIZATION\","
                                                + " \"text\": \"Globex\"}, {\"type\":"
                                                + " \"EMAIL_ADDRESS\", \"text\":"
                                                + " \"<EMAIL_ADDRESS_1>\"}]}"));
        List<Map<String, Object>> entities = (List<Map<String, Object>>) merged.get("entities");
        assertThat(entities)
                .extracting(e -> e.get("type"))
                .containsExactly("PERSON", "ORGANIZATION", "EMAIL_ADDRESS");
        // The local name finder's span and its calibrated score win over the model's copy.
        assertThat(entities.get(0).get("score")).isNotEqualTo(0.7);
        assertThat(merged.get("redacted_text"))
                .isEqualTo(
                        "Hi, my name is <PERSON_1> and I work at <ORGANIZATION_1>, mail"
                                + " <EMAIL_ADDRESS_1>");
    }
}
