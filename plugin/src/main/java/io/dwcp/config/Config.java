package io.dwcp.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Marks the setter of a configuration class that a property key maps to. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Config {
    /** The property key, e.g. {@code amst.window}. */
    String value();

    /** One line for {@code dwcpd --help-config}. */
    String description() default "";
}
