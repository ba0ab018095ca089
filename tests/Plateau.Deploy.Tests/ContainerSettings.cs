using System.Text;
using k8s.Models;

namespace Plateau.Deploy.Tests;

/// <summary>
/// The configuration a container's process sees: its envFrom ConfigMaps, then its env entries (which
/// win, as in Kubernetes), read through the hosts' <c>AddEnvironmentVariables("PLATEAU_")</c> rule
/// (prefix removed, <c>__</c> read as <c>:</c>). Downward-API values get stand-ins of the right shape.
/// </summary>
internal static class ContainerSettings
{
    public const string Prefix = "PLATEAU_";
    public const string PodIp = "10.244.1.7";

    /// <summary>Stand-in for a Secret the overlay leaves to the operator (the gpu overlay's database).</summary>
    public const string ExternalConnectionString = "Host=db.example;Port=5432;Database=plateau;Username=plateau;Password=secret";

    /// <summary>Stand-in for the API token Secret the gpu overlay leaves to the operator.</summary>
    public const string ExternalApiToken = "operator-made-api-token-0123456789";

    public static Dictionary<string, string> Environment(Overlay overlay, V1StatefulSet set, V1Container container)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            var map = overlay.ConfigMap(source.ConfigMapRef?.Name ?? throw new InvalidOperationException($"{container.Name}: only configMapRef envFrom is used"));
            foreach (var (key, value) in map.Data)
            {
                env[key] = value;
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            env[variable.Name] = variable.Value ?? Resolve(overlay, set, variable);
        }

        return env;
    }

    /// <summary>Configuration keys (Plateau:Worker:Devices) of the PLATEAU_ variables; other variables are not Plateau settings.</summary>
    public static Dictionary<string, string?> Configuration(IReadOnlyDictionary<string, string> environment) =>
        environment.Where(e => e.Key.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(e => e.Key[Prefix.Length..].Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value, StringComparer.OrdinalIgnoreCase);

    public static V1Container Container(V1StatefulSet set, string name) =>
        set.Spec.Template.Spec.Containers.SingleOrDefault(c => c.Name == name)
        ?? throw new InvalidOperationException($"{set.Metadata.Name} has no container {name}");

    private static string Resolve(Overlay overlay, V1StatefulSet set, V1EnvVar variable)
    {
        if (variable.ValueFrom?.FieldRef is { } field)
        {
            return field.FieldPath switch
            {
                "metadata.name" => set.Metadata.Name + "-0",
                "metadata.namespace" => set.Metadata.NamespaceProperty,
                "status.podIP" => PodIp,
                var other => throw new InvalidOperationException($"{variable.Name}: no stand-in for fieldRef {other}"),
            };
        }

        if (variable.ValueFrom?.SecretKeyRef is { } secretRef)
        {
            var secret = overlay.All<V1Secret>().SingleOrDefault(s => s.Metadata.Name == secretRef.Name);
            if (secret is null)
            {
                return secretRef.Key switch
                {
                    "connection-string" => ExternalConnectionString,
                    "token" => ExternalApiToken,
                    _ => "external-secret",
                };
            }

            return secret.Data?.TryGetValue(secretRef.Key, out var bytes) == true ? Encoding.UTF8.GetString(bytes)
                : secret.StringData?.TryGetValue(secretRef.Key, out var text) == true ? text
                : throw new InvalidOperationException($"{variable.Name}: Secret {secretRef.Name} has no key {secretRef.Key}");
        }

        throw new InvalidOperationException($"{variable.Name} has neither a value nor a source the tests know");
    }
}
