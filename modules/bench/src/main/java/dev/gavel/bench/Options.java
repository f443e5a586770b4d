package dev.gavel.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A subcommand's {@code --name value} and {@code --flag} options, checked against the options it declares, so
 * that a typo stops the run with a message instead of being ignored.
 */
final class Options {

    /** One declared option: its name, default (null for a flag) and a line of help. */
    record Spec(String name, String defaultValue, String help) {
        boolean flag() {
            return defaultValue == null;
        }
    }

    private final String command;
    private final List<Spec> specs;
    private final Map<String, String> values = new LinkedHashMap<>();

    private Options(String command, List<Spec> specs) {
        this.command = command;
        this.specs = specs;
    }

    static Options parse(String command, List<Spec> specs, String[] args) {
        Options options = new Options(command, specs);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new UsageException(command + ": unexpected argument '" + arg + "'");
            }
            String name = arg.substring(2);
            String inlineValue = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inlineValue = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            Spec spec = options.spec(name);
            if (spec.flag()) {
                options.values.put(name, inlineValue == null ? "true" : inlineValue);
            } else if (inlineValue != null) {
                options.values.put(name, inlineValue);
            } else if (i + 1 < args.length) {
                options.values.put(name, args[++i]);
            } else {
                throw new UsageException(command + ": --" + name + " needs a value");
            }
        }
        return options;
    }

    private Spec spec(String name) {
        for (Spec spec : specs) {
            if (spec.name().equals(name)) {
                return spec;
            }
        }
        throw new UsageException(command + ": unknown option --" + name + " (see " + command + " --help)");
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String string(String name) {
        String value = values.get(name);
        return value != null ? value : spec(name).defaultValue();
    }

    int integer(String name) {
        return (int) number(name);
    }

    long number(String name) {
        String raw = string(name);
        try {
            return Long.parseLong(raw.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " is not a number: '" + raw + "'");
        }
    }

    double decimal(String name) {
        String raw = string(name);
        try {
            return Double.parseDouble(raw);
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " is not a number: '" + raw + "'");
        }
    }

    boolean flag(String name) {
        return Boolean.parseBoolean(values.getOrDefault(name, "false"));
    }

    /** Every option with its effective value, for the JSON result. */
    Map<String, String> effective() {
        Map<String, String> all = new LinkedHashMap<>();
        for (Spec spec : specs) {
            all.put(spec.name(), spec.flag() ? String.valueOf(flag(spec.name())) : string(spec.name()));
        }
        return all;
    }

    /** The original arguments, in order, to repeat the command in a report. */
    List<String> asArguments() {
        List<String> args = new ArrayList<>();
        values.forEach((name, value) -> {
            args.add("--" + name);
            if (!spec(name).flag()) {
                args.add(value);
            }
        });
        return args;
    }

    static String help(List<Spec> specs) {
        StringBuilder text = new StringBuilder();
        for (Spec spec : specs) {
            String left = "  --" + spec.name() + (spec.flag() ? "" : " <" + spec.defaultValue() + ">");
            text.append(String.format("%-34s %s%n", left, spec.help()));
        }
        return text.toString();
    }

    /** A bad command line: the message is printed and the run ends with code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
