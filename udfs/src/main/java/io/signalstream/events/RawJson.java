package io.signalstream.events;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;

import java.io.IOException;

/**
 * Reads any JSON value into its compact JSON text, the counterpart of {@code @JsonRawValue} on
 * write: a field holding a JSON value of any type ({@code "negative"}, {@code 0.4}, {@code true})
 * is kept as its text in the Flink record (a {@code String}, no Kryo), written back as the value
 * itself, and read back into the same text.
 */
public final class RawJson extends JsonDeserializer<String> {

    @Override
    public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        return p.readValueAsTree().toString();
    }
}
