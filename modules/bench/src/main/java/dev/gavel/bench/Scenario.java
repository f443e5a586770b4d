package dev.gavel.bench;

import java.util.List;

/** One benchmark: bounded in size and time, it starts what it needs and stops it again. */
interface Scenario {

    String name();

    /** What it measures, for {@code --help}. */
    String description();

    /** Its own options; the common ones are added by {@link Bench}. */
    List<Options.Spec> options();

    /** The targets {@code --target} selects; cores overrides this to run Gavel twice. */
    default List<Target> targets(Context context) {
        return Target.parse(context.options.string("target"));
    }

    Result run(Context context, Target target) throws Exception;
}
