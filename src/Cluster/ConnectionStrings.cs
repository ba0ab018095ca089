using System.Text.RegularExpressions;
using Npgsql;
using Plateau.Contracts.Errors;

namespace Plateau.Cluster;

/// <summary>How a connection string appears in an error message: without its password, shortened.</summary>
public static partial class ConnectionStrings
{
    /// <summary>The connection string without Password/Passfile values, quoted with <see cref="Quote.Value"/>.</summary>
    public static string Quoted(string? connectionString) => Quote.Value(WithoutSecrets(connectionString));

    /// <summary>
    /// The connection string with every password dropped. A string Npgsql can parse is rebuilt without
    /// them; one it cannot parse (the case where the message matters most) has its password values masked.
    /// </summary>
    public static string? WithoutSecrets(string? connectionString)
    {
        if (connectionString is null)
        {
            return null;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            builder.Remove("Password");
            builder.Remove("Passfile");
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return SecretPattern().Replace(connectionString, "$1=***");
        }
    }

    /// <summary>Null when Npgsql accepts the connection string, else its complaint (never the password).</summary>
    public static string? Problem(string connectionString)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (ArgumentException e)
        {
            // Npgsql names the keyword it did not understand; its message never repeats the values.
            return e.Message;
        }
    }

    [GeneratedRegex(@"((?:password|pwd|passfile)\s*)=[^;]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();
}
