package dev.gavel.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The repository's files, and the real tools (kubectl, docker-compose) run on them. */
final class Repo {

    /** The repository's root: the first directory up from the module that holds the Dockerfile. */
    static final Path ROOT = root();

    private Repo() {
    }

    static Path path(String relative) {
        return ROOT.resolve(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(path(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a tool printed on standard output, with its exit code and standard error. */
    record Run(int exit, String out, String err) {
    }

    /** Runs a tool from the repository's root; fails the test, saying what to install, when the tool is missing. */
    static Run run(List<String> command) {
        try {
            Path err = Files.createTempFile("gavel-deploy", ".err");
            Process process = new ProcessBuilder(new ArrayList<>(command))
                    .directory(ROOT.toFile())
                    .redirectError(err.toFile())
                    .start();
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(command + " did not finish within 120 s");
            }
            String errors = Files.readString(err);
            Files.delete(err);
            return new Run(process.exitValue(), out, errors);
        } catch (IOException e) {
            throw new AssertionError("could not run " + command.get(0) + " (bash .ci/run installs it): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("Dockerfile")) && Files.isDirectory(dir.resolve("modules"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no repository root with a Dockerfile above " + Path.of("").toAbsolutePath());
    }
}
