package io.signalstream.jobs.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Flink SQL script as the {@code sql} command runs it: split into statements, then variables
 * substituted in each.
 *
 * <p>The rules are deliberately simple, so that a script reads the same to people and to the
 * runner:
 *
 * <ul>
 *   <li>{@code ${name}} is replaced by the value of variable {@code name}; {@code ${name:default}}
 *       falls back to {@code default} when the variable is not set. A variable that is neither set
 *       nor defaulted is an error. Names are letters, digits, {@code .}, {@code _} and {@code -}.
 *   <li>A line whose first non-blank characters are {@code --} is a comment and is dropped
 *       (comments after code on the same line are left to Flink's parser).
 *   <li>A statement ends with a line whose last non-blank character is {@code ;}. A {@code ;}
 *       anywhere else (inside a string literal, in the middle of a line) does not end it. The text
 *       after the last {@code ;} is a statement too, if it is not blank.
 * </ul>
 */
public final class SqlScript {

    private static final Pattern VARIABLE =
            Pattern.compile("\\$\\{([A-Za-z0-9_.\\-]+)(?::([^}]*))?}");

    private SqlScript() {}

    /**
     * Substitutes the variables of a script.
     *
     * @param script SQL text
     * @param variables variable values
     * @return the text with every {@code ${...}} replaced
     * @throws IllegalArgumentException if a variable has neither a value nor a default
     */
    public static String substitute(String script, Map<String, String> variables) {
        Matcher m = VARIABLE.matcher(script);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = variables.get(m.group(1));
            if (value == null) {
                value = m.group(2);
            }
            if (value == null) {
                throw new IllegalArgumentException(
                        "SQL variable ${"
                                + m.group(1)
                                + "} is not set (set it with --var "
                                + m.group(1)
                                + "=VALUE)");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * Splits a script into statements: comment lines dropped, statements ended by {@code ;} at the
     * end of a line, the {@code ;} removed.
     *
     * @param script SQL text
     * @return the statements in order, trimmed, none blank
     */
    public static List<String> split(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\\R", -1)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("--")) {
                continue;
            }
            if (trimmed.endsWith(";")) {
                current.append(line, 0, line.lastIndexOf(';'));
                add(statements, current);
                current.setLength(0);
            } else {
                current.append(line).append('\n');
            }
        }
        add(statements, current);
        return statements;
    }

    /**
     * {@link #split} then {@link #substitute} in each statement (so comments may mention variables
     * freely).
     *
     * @throws IllegalArgumentException if a variable has neither a value nor a default
     */
    public static List<String> parse(String script, Map<String, String> variables) {
        List<String> out = new ArrayList<>();
        for (String statement : split(script)) {
            out.add(substitute(statement, variables));
        }
        return out;
    }

    private static void add(List<String> statements, StringBuilder current) {
        String s = current.toString().strip();
        if (!s.isEmpty()) {
            statements.add(s);
        }
    }
}
