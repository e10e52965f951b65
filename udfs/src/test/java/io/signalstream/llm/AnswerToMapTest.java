package io.signalstream.llm;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code OpenAiProvider.toMap} walks an answer's JSON tree directly; it must give exactly what
 * Jackson's {@code convertValue(answer, LinkedHashMap.class)} gave before: the same keys in the
 * same order and the same Java types (Integer, Long, BigInteger, Double, BigDecimal, …).
 */
class AnswerToMapTest {

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{}",
                "{\"label\":\"negative\",\"score\":-0.5,\"confidence\":1,\"emotion\":null}",
                "{\"has_pii\":true,\"entities\":[{\"type\":\"EMAIL_ADDRESS\",\"start\":3,"
                        + "\"end\":20,\"score\":0.99}],\"redacted_text\":\"a <EMAIL_ADDRESS_1>\"}",
                "{\"big\":12345678901234,\"huge\":123456789012345678901234567890,"
                        + "\"tiny\":1e-300,\"exact\":0.1,\"neg\":-7,\"zero\":0.0}",
                "{\"nested\":{\"a\":[1,[2,[3,{\"b\":false}]]],\"empty\":[],\"obj\":{}},"
                        + "\"text\":\"line\\nbreak \\u00e9\"}",
                "{\"z\":1,\"a\":2,\"m\":[null,true,\"x\",1.5]}"
            })
    void givesWhatConvertValueGave(String json) throws Exception {
        JsonNode answer = Json.MAPPER.readTree(json);
        @SuppressWarnings("unchecked")
        Map<String, Object> expected = Json.MAPPER.convertValue(answer, LinkedHashMap.class);
        Map<String, Object> actual = OpenAiProvider.toMap(answer);
        assertThat(actual).isEqualTo(expected);
        assertThat(types(actual)).isEqualTo(types(expected));
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
    }

    /** The value tree with each leaf replaced by its class name. */
    private static Object types(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, types(x)));
            return out;
        }
        if (v instanceof java.util.List<?> l) {
            return l.stream().map(AnswerToMapTest::types).toList();
        }
        return v == null ? "null" : v.getClass().getName();
    }
}
