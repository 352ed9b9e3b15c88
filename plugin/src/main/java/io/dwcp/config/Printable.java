package io.dwcp.config;

/** Text from outside (a peer, a request) made safe to quote in one line of a log, an answer or an ABORT. */
public final class Printable {
    private Printable() {}

    /** At most {@code maxChars} characters (then "..."), control characters shown as '?'. */
    public static String of(String text, int maxChars) {
        String shortened = text.length() > maxChars ? text.substring(0, maxChars) + "..." : text;
        StringBuilder out = new StringBuilder(shortened.length());
        shortened.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return out.toString();
    }
}
