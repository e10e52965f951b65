package io.signalstream.serde;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one JSON configuration of every event: snake_case field names, ISO-8601 UTC timestamps,
 * unknown fields ignored on read.
 */
public final class Json {

    /** Thread-safe shared mapper; do not reconfigure it. */
    public static final ObjectMapper MAPPER =
            new ObjectMapper()
                    .registerModule(new JavaTimeModule())
                    .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
                    .setSerializationInclusion(JsonInclude.Include.ALWAYS);

    private Json() {}

    /**
     * Serialises a value to UTF-8 JSON bytes.
     *
     * @throws IllegalArgumentException if the value cannot be serialised
     */
    public static byte[] toBytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialise " + value.getClass(), e);
        }
    }

    /**
     * Serialises a value to a JSON string.
     *
     * @throws IllegalArgumentException if the value cannot be serialised
     */
    public static String toString(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialise " + value.getClass(), e);
        }
    }

    /**
     * Serialises a value to indented JSON, for people to read.
     *
     * @throws IllegalArgumentException if the value cannot be serialised
     */
    public static String toPrettyString(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialise " + value.getClass(), e);
        }
    }

    /**
     * Reads a JSON document into the given type.
     *
     * @throws UncheckedIOException if the bytes are not JSON of that shape
     */
    public static <T> T fromBytes(byte[] bytes, Class<T> type) {
        try {
            return MAPPER.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + type.getSimpleName(), e);
        }
    }
}
