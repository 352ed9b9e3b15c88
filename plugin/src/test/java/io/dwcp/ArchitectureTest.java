package io.dwcp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages of the plugin's main classes depend on each other one way only: no package cycle.
 *
 * <p>The graph comes from the sources under {@code src/main/java}: a package depends on another
 * {@code io.dwcp} package when one of its files names it in an import (static and wildcard
 * imports too) or in a fully-qualified reference in code. Comments and string, character and text
 * block literals are left out, so a javadoc link is not a dependency. References within a package
 * need no import and do not matter here.
 */
class ArchitectureTest {
    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    // a qualified class name (io.dwcp.session.Session, also as the prefix of Session.Role or of a static member)
    private static final Pattern QUALIFIED =
            Pattern.compile("\\bio\\.dwcp((?:\\s*\\.\\s*[a-z_][\\w]*)*)\\s*\\.\\s*[A-Z]");
    // import io.dwcp.session.*;
    private static final Pattern WILDCARD =
            Pattern.compile("\\bimport\\s+(?:static\\s+)?io\\.dwcp((?:\\s*\\.\\s*[a-z_][\\w]*)*)\\s*\\.\\s*\\*");

    @Test
    void mainPackagesFormNoCycle() throws IOException {
        Map<String, String> sources = mainSources();
        assertTrue(sources.size() > 100, "read " + sources.size() + " source files under " + mainSourceDirectory());
        SortedMap<String, SortedMap<String, SortedSet<String>>> graph = packageGraph(sources);
        assertTrue(
                graph.containsKey("io.dwcp.session") && graph.containsKey("io.dwcp.daemon"),
                "packages: " + graph.keySet());
        assertTrue(
                graph.get("io.dwcp.daemon").containsKey("io.dwcp.session"),
                "the daemon's use of the tunnel is seen: " + graph.get("io.dwcp.daemon"));
        List<SortedSet<String>> cycles = cycles(graph);
        if (!cycles.isEmpty()) {
            fail(describe(graph, cycles));
        }
    }

    @Test
    void nothingDependsOnTheCompositionRoot() throws IOException {
        SortedMap<String, SortedMap<String, SortedSet<String>>> graph = packageGraph(mainSources());
        SortedMap<String, SortedSet<String>> users = new TreeMap<>();
        graph.forEach((from, edges) -> {
            if (edges.containsKey("io.dwcp.daemon")) {
                users.put(from, edges.get("io.dwcp.daemon"));
            }
        });
        assertEquals(Map.of(), users, "packages that use io.dwcp.daemon (the files), which only composes the others");
    }

    @Test
    void findsACycleAndTheFilesThatMakeIt() {
        Map<String, String> sources = Map.of(
                "a/First.java", """
                        package io.dwcp.a;
                        import io.dwcp.b.Second; // the edge a -> b
                        class First { Second second; }
                        """,
                "b/Second.java", """
                        package io.dwcp.b;
                        class Second { Object third = new io.dwcp.c.Third(); }
                        """,
                "c/Third.java", """
                        package io.dwcp.c;
                        import static io.dwcp.a.First.CONSTANT;
                        class Third {}
                        """,
                "d/Fourth.java", """
                        package io.dwcp.d;
                        import io.dwcp.a.*;
                        class Fourth {}
                        """);
        SortedMap<String, SortedMap<String, SortedSet<String>>> graph = packageGraph(sources);
        assertEquals(Set.of("io.dwcp.b"), graph.get("io.dwcp.a").keySet());
        assertEquals(Set.of("io.dwcp.a"), graph.get("io.dwcp.d").keySet());
        List<SortedSet<String>> cycles = cycles(graph);
        assertEquals(List.of(new TreeSet<>(List.of("io.dwcp.a", "io.dwcp.b", "io.dwcp.c"))), cycles);
        String message = describe(graph, cycles);
        assertTrue(message.contains("io.dwcp.b -> io.dwcp.c (Second)"), message);
        assertTrue(message.contains("io.dwcp.c -> io.dwcp.a (Third)"), message);
    }

    @Test
    void commentsAndLiteralsAreNoDependency() {
        Map<String, String> sources = Map.of(
                "a/First.java", """
                        package io.dwcp.a;
                        /** Sends to {@link io.dwcp.b.Second}. */
                        class First {
                            // io.dwcp.b.Second
                            String name = "io.dwcp.b.Second \\" io.dwcp.b.Second";
                            char quote = '"';
                            String block = \"""
                                    io.dwcp.b.Second
                                    \""";
                            /* io.dwcp.b.Second */
                        }
                        """,
                "b/Second.java", """
                        package io.dwcp.b;
                        import io.dwcp.a . First;
                        class Second {}
                        """);
        SortedMap<String, SortedMap<String, SortedSet<String>>> graph = packageGraph(sources);
        assertEquals(Set.of(), graph.get("io.dwcp.a").keySet());
        assertEquals(Set.of("io.dwcp.a"), graph.get("io.dwcp.b").keySet());
        assertEquals(List.of(), cycles(graph));
    }

    private static Path mainSourceDirectory() {
        try {
            // target/test-classes -> the module's directory
            Path testClasses = Path.of(ArchitectureTest.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            return testClasses.getParent().getParent().resolve("src/main/java");
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> mainSources() throws IOException {
        Path root = mainSourceDirectory();
        assertTrue(Files.isDirectory(root.resolve("io/dwcp")), "no sources at " + root);
        Map<String, String> sources = new HashMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file :
                    files.filter(path -> path.toString().endsWith(".java")).toList()) {
                sources.put(root.relativize(file).toString(), Files.readString(file, UTF_8));
            }
        }
        return sources;
    }

    /** Package -> the packages it depends on -> the simple names of the files that make each edge. */
    static SortedMap<String, SortedMap<String, SortedSet<String>>> packageGraph(Map<String, String> sources) {
        Map<String, String> codeByFile = new TreeMap<>();
        Map<String, String> packageByFile = new HashMap<>();
        SortedMap<String, SortedMap<String, SortedSet<String>>> graph = new TreeMap<>();
        for (Map.Entry<String, String> source : sources.entrySet()) {
            String code = code(source.getValue());
            Matcher declaration = PACKAGE.matcher(code);
            assertTrue(declaration.find(), "no package declaration in " + source.getKey());
            packageByFile.put(source.getKey(), declaration.group(1));
            codeByFile.put(source.getKey(), code);
            graph.putIfAbsent(declaration.group(1), new TreeMap<>());
        }
        for (Map.Entry<String, String> file : codeByFile.entrySet()) {
            String from = packageByFile.get(file.getKey());
            String className = file.getKey().replaceAll("^.*/", "").replaceAll("\\.java$", "");
            List<String> referenced = new ArrayList<>();
            for (Pattern pattern : List.of(QUALIFIED, WILDCARD)) {
                Matcher matcher = pattern.matcher(file.getValue());
                while (matcher.find()) {
                    referenced.add("io.dwcp" + matcher.group(1).replaceAll("\\s", ""));
                }
            }
            for (String to : referenced) {
                // only packages of main classes: a name that is not one (io.dwcp.migration, of the library) is no edge
                // here
                if (!to.equals(from) && graph.containsKey(to)) {
                    graph.get(from)
                            .computeIfAbsent(to, ignored -> new TreeSet<>())
                            .add(className);
                }
            }
        }
        return graph;
    }

    /** The strongly connected components of more than one package (Tarjan), each sorted, in package order. */
    static List<SortedSet<String>> cycles(SortedMap<String, SortedMap<String, SortedSet<String>>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> lowLink = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new java.util.HashSet<>();
        List<SortedSet<String>> components = new ArrayList<>();
        for (String start : graph.keySet()) {
            if (!index.containsKey(start)) {
                connect(start, graph, index, lowLink, stack, onStack, components);
            }
        }
        components.removeIf(component -> component.size() < 2);
        components.sort((left, right) -> left.first().compareTo(right.first()));
        return components;
    }

    private static void connect(
            String node,
            SortedMap<String, SortedMap<String, SortedSet<String>>> graph,
            Map<String, Integer> index,
            Map<String, Integer> lowLink,
            Deque<String> stack,
            Set<String> onStack,
            List<SortedSet<String>> components) {
        index.put(node, index.size());
        lowLink.put(node, index.get(node));
        stack.push(node);
        onStack.add(node);
        for (String next : graph.get(node).keySet()) {
            if (!index.containsKey(next)) {
                connect(next, graph, index, lowLink, stack, onStack, components);
                lowLink.put(node, Math.min(lowLink.get(node), lowLink.get(next)));
            } else if (onStack.contains(next)) {
                lowLink.put(node, Math.min(lowLink.get(node), index.get(next)));
            }
        }
        if (lowLink.get(node).equals(index.get(node))) {
            SortedSet<String> component = new TreeSet<>();
            String member;
            do {
                member = stack.pop();
                onStack.remove(member);
                component.add(member);
            } while (!member.equals(node));
            components.add(component);
        }
    }

    private static String describe(
            SortedMap<String, SortedMap<String, SortedSet<String>>> graph, List<SortedSet<String>> cycles) {
        StringBuilder message = new StringBuilder("package cycles in the plugin's main classes:");
        for (SortedSet<String> cycle : cycles) {
            message.append("\n  ").append(cycle).append(':');
            for (String from : cycle) {
                for (Map.Entry<String, SortedSet<String>> edge : graph.get(from).entrySet()) {
                    if (cycle.contains(edge.getKey())) {
                        message.append("\n    ")
                                .append(from)
                                .append(" -> ")
                                .append(edge.getKey())
                                .append(" (")
                                .append(String.join(", ", edge.getValue()))
                                .append(')');
                    }
                }
            }
        }
        return message.toString();
    }

    /** The source with comments removed and every string, text block and character literal emptied. */
    static String code(String source) {
        StringBuilder code = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            char c = source.charAt(i);
            if (source.startsWith("//", i)) {
                int end = source.indexOf('\n', i);
                i = end < 0 ? source.length() : end;
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                assertTrue(end >= 0, "unterminated comment");
                i = end + 2;
                code.append(' ');
            } else if (source.startsWith("\"\"\"", i)) {
                i = skipLiteral(source, i + 3, "\"\"\"");
                code.append("\"\"");
            } else if (c == '"' || c == '\'') {
                i = skipLiteral(source, i + 1, String.valueOf(c));
                code.append("\"\"");
            } else {
                code.append(c);
                i++;
            }
        }
        return code.toString();
    }

    /** The index after the literal's closing {@code end}, escapes skipped. */
    private static int skipLiteral(String source, int from, String end) {
        int i = from;
        while (!source.startsWith(end, i)) {
            assertTrue(i < source.length(), "unterminated literal at " + from);
            i += source.charAt(i) == '\\' ? 2 : 1;
        }
        return i + end.length();
    }
}
