namespace Plateau.ServiceDefaults;

/// <summary>Where <see cref="HealthEndpointServer"/> listens: an IP address and a port (0: any free port).</summary>
public sealed record HealthEndpointOptions(string ListenAddress, int Port);
