package io.dwcp.config;

/** A configuration file or option that dwcpd cannot use; the message says which key and why. */
public class ConfigurationException
        extends RuntimeException
{
    public ConfigurationException(String message)
    {
        super(message);
    }

    public ConfigurationException(String message, Throwable cause)
    {
        super(message, cause);
    }
}
