package io.signalstream.jobs.sql;

import io.signalstream.serde.Json;

import org.apache.flink.types.Row;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How the {@code sql} command prints rows: an aligned {@code table} for people, {@code csv} (RFC
 * 4180, header line) or {@code json} (one object per line, {@code []} for an empty result, so a
 * script can tell an empty answer from a failure that printed nothing) for scripts.
 *
 * <p>Values print the same way in every format: timestamps as ISO-8601 UTC ({@code
 * 2020-04-01T17:31:32Z} for {@code TIMESTAMP_LTZ}, {@code 2020-04-01 17:31:00} for window bounds,
 * which are UTC since the session time zone is UTC), arrays as {@code [a, b]}, NULL as {@code NULL}
 * in a table, empty in CSV and {@code null} in JSON.
 */
public enum ResultFormat {
    /** Aligned columns with borders, and a row count. */
    TABLE,
    /** Comma-separated, quoted where needed, one header line. */
    CSV,
    /** One JSON object per row, keyed by column name; {@code []} when there is no row. */
    JSON;

    private static final DateTimeFormatter LOCAL =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSS]", Locale.ROOT);

    /**
     * Prints a whole result.
     *
     * @param result the rows and columns
     * @param out where to print
     */
    public void print(QueryResult result, PrintStream out) {
        switch (this) {
            case TABLE -> printTable(result.columns(), result.rows(), out);
            case CSV -> {
                out.println(csvLine(result.columns()));
                for (Row r : result.rows()) {
                    out.println(csvLine(texts(r, "")));
                }
            }
            case JSON -> {
                if (result.rows().isEmpty()) {
                    out.println("[]");
                }
                result.rows().forEach(r -> out.println(json(result.columns(), r, null)));
            }
        }
        out.flush();
    }

    /**
     * Prints one change of an unbounded query, with its kind ({@code +I}, {@code -U}, {@code +U},
     * {@code -D}) as the first column ({@code op} in JSON).
     *
     * @param change the change
     * @param first whether it is the first change of its query (a header is printed first)
     * @param out where to print
     */
    public void printChange(SqlRunner.QueryChange change, boolean first, PrintStream out) {
        String op = change.row().getKind().shortString();
        List<String> columns = new ArrayList<>(change.columns());
        columns.add(0, "op");
        List<String> values = texts(change.row(), this == CSV ? "" : "NULL");
        values.add(0, op);
        switch (this) {
            case TABLE -> {
                if (first) {
                    out.println(String.join(" | ", columns));
                }
                out.println(String.join(" | ", values));
            }
            case CSV -> {
                if (first) {
                    out.println(csvLine(columns));
                }
                out.println(csvLine(values));
            }
            case JSON -> out.println(json(change.columns(), change.row(), op));
        }
        out.flush();
    }

    /**
     * The text of one value as this class prints it.
     *
     * @param value a value of a Flink {@link Row} (external types)
     * @param nullText what NULL prints as
     */
    public static String text(Object value, String nullText) {
        if (value == null) {
            return nullText;
        }
        if (value instanceof Instant i) {
            return DateTimeFormatter.ISO_INSTANT.format(i);
        }
        if (value instanceof LocalDateTime t) {
            return LOCAL.format(t);
        }
        if (value instanceof TemporalAccessor) {
            return value.toString();
        }
        if (value instanceof BigDecimal d) {
            return d.toPlainString();
        }
        if (value instanceof Object[] a) {
            List<String> items = new ArrayList<>();
            for (Object o : a) {
                items.add(text(o, "NULL"));
            }
            return "[" + String.join(", ", items) + "]";
        }
        if (value.getClass().isArray()) {
            return arrayText(value);
        }
        if (value instanceof Row r) {
            return "(" + String.join(", ", texts(r, "NULL")) + ")";
        }
        return value.toString();
    }

    private static String arrayText(Object primitiveArray) {
        if (primitiveArray instanceof byte[] b) {
            return Arrays.toString(b);
        }
        if (primitiveArray instanceof int[] b) {
            return Arrays.toString(b);
        }
        if (primitiveArray instanceof long[] b) {
            return Arrays.toString(b);
        }
        if (primitiveArray instanceof double[] b) {
            return Arrays.toString(b);
        }
        return String.valueOf(primitiveArray);
    }

    private static List<String> texts(Row r, String nullText) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < r.getArity(); i++) {
            out.add(text(r.getField(i), nullText));
        }
        return out;
    }

    private static void printTable(List<String> columns, List<Row> rows, PrintStream out) {
        List<List<String>> cells = new ArrayList<>();
        int[] width = new int[columns.size()];
        for (int c = 0; c < columns.size(); c++) {
            width[c] = columns.get(c).length();
        }
        for (Row r : rows) {
            List<String> line = texts(r, "NULL");
            for (int c = 0; c < line.size(); c++) {
                String v = line.get(c).replace('\n', ' ').replace('\r', ' ');
                line.set(c, v);
                width[c] = Math.max(width[c], v.codePointCount(0, v.length()));
            }
            cells.add(line);
        }
        StringBuilder border = new StringBuilder("+");
        for (int w : width) {
            border.append("-".repeat(w + 2)).append('+');
        }
        out.println(border);
        out.println(tableLine(columns, width, null));
        out.println(border);
        for (int i = 0; i < cells.size(); i++) {
            out.println(tableLine(cells.get(i), width, rows.get(i)));
        }
        if (!cells.isEmpty()) {
            out.println(border);
        }
        out.println(rows.size() == 1 ? "1 row" : rows.size() + " rows");
    }

    private static String tableLine(List<String> values, int[] width, Row row) {
        StringBuilder sb = new StringBuilder("|");
        for (int c = 0; c < values.size(); c++) {
            String v = values.get(c);
            int pad = width[c] - v.codePointCount(0, v.length());
            boolean right = row != null && row.getField(c) instanceof Number;
            sb.append(' ');
            if (right) {
                sb.append(" ".repeat(pad)).append(v);
            } else {
                sb.append(v).append(" ".repeat(pad));
            }
            sb.append(" |");
        }
        return sb.toString();
    }

    private static String csvLine(List<String> values) {
        List<String> quoted = new ArrayList<>();
        for (String v : values) {
            boolean quote =
                    v.indexOf(',') >= 0
                            || v.indexOf('"') >= 0
                            || v.indexOf('\n') >= 0
                            || v.indexOf('\r') >= 0;
            quoted.add(quote ? '"' + v.replace("\"", "\"\"") + '"' : v);
        }
        return String.join(",", quoted);
    }

    private static String json(List<String> columns, Row r, String op) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (op != null) {
            o.put("op", op);
        }
        for (int i = 0; i < columns.size(); i++) {
            o.set(columns.get(i), jsonValue(r.getField(i)));
        }
        return Json.toString(o);
    }

    private static JsonNode jsonValue(Object v) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (v == null) {
            return f.nullNode();
        }
        if (v instanceof Boolean b) {
            return f.booleanNode(b);
        }
        if (v instanceof BigDecimal d) {
            return f.numberNode(d);
        }
        if (v instanceof Double d) {
            return f.numberNode(d);
        }
        if (v instanceof Float d) {
            return f.numberNode(d);
        }
        if (v instanceof Long n) {
            return f.numberNode(n);
        }
        if (v instanceof Number n) {
            return f.numberNode(n.intValue());
        }
        if (v instanceof Object[] a) {
            ArrayNode arr = f.arrayNode();
            for (Object o : a) {
                arr.add(jsonValue(o));
            }
            return arr;
        }
        if (v instanceof Map<?, ?> m) {
            ObjectNode o = f.objectNode();
            m.forEach((k, val) -> o.set(String.valueOf(k), jsonValue(val)));
            return o;
        }
        if (v instanceof Row r) {
            Set<String> names = r.getFieldNames(false);
            if (names != null) {
                ObjectNode o = f.objectNode();
                for (String n : names) {
                    o.set(n, jsonValue(r.getField(n)));
                }
                return o;
            }
            ArrayNode arr = f.arrayNode();
            for (int i = 0; i < r.getArity(); i++) {
                arr.add(jsonValue(r.getField(i)));
            }
            return arr;
        }
        return f.textNode(text(v, null));
    }

    /**
     * Parses a format name, case-insensitively.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static ResultFormat of(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
