namespace Plateau.Coordinator.Storage.PostgreSql;

/// <summary>The coordinator's PostgreSQL database cannot be reached or prepared; the message names the
/// setting and quotes the connection string without its password.</summary>
public sealed class PostgreSqlUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
