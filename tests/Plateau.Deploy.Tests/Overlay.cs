using k8s;
using k8s.Models;

namespace Plateau.Deploy.Tests;

/// <summary>One kustomize overlay rendered by <c>kubectl kustomize</c> and parsed into KubernetesClient's typed models.</summary>
internal sealed class Overlay
{
    public static readonly string[] Names = ["cpu-dev", "gpu"];

    private static readonly Dictionary<string, Overlay> Cache = [];

    private Overlay(string name, string yaml, IReadOnlyList<object> objects) => (Name, Yaml, Objects) = (name, yaml, objects);

    public string Name { get; }

    public string Yaml { get; }

    public IReadOnlyList<object> Objects { get; }

    public static Overlay Render(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var overlay))
            {
                var result = Tool.Run("kubectl", "kustomize", Path.Combine("k8s", "overlays", name));
                if (result.ExitCode != 0)
                {
                    throw new InvalidOperationException($"kubectl kustomize k8s/overlays/{name} failed ({result.ExitCode}): {result.Error}");
                }

                // strict: a field the typed model does not know (a misspelt key) is an error, not dropped.
                overlay = new Overlay(name, result.Output, KubernetesYaml.LoadAllFromString(result.Output, strict: true));
                Cache[name] = overlay;
            }

            return overlay;
        }
    }

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public T One<T>(string name) where T : IKubernetesObject<V1ObjectMeta> =>
        All<T>().SingleOrDefault(o => o.Metadata.Name == name)
        ?? throw new InvalidOperationException($"overlay {Name} renders no {typeof(T).Name} named {name}");

    public V1StatefulSet Coordinator => One<V1StatefulSet>("plateau-coordinator");

    public V1StatefulSet Workers => One<V1StatefulSet>("plateau-worker");

    /// <summary>A ConfigMap by name (the overlays merge into the base's ConfigMaps, which keep their names).</summary>
    public V1ConfigMap ConfigMap(string name) =>
        All<V1ConfigMap>().SingleOrDefault(c => c.Metadata.Name == name)
        ?? throw new InvalidOperationException($"overlay {Name} renders no ConfigMap {name}");
}
