using System.Text.Json.Nodes;
using k8s.Models;

namespace Plateau.Kubernetes.Tests;

internal static class TrainingJobs
{
    public static TrainingJob New(string name = "se-resnet20-cifar", Action<JsonObject>? change = null)
    {
        var spec = JsonNode.Parse("""
            {
              "model": { "name": "se_resnet20_cifar" },
              "dataset": { "kind": "synthetic", "options": { "samples": 512 } },
              "epochs": 3,
              "batch": { "global": 64 },
              "schedule": { "plateau": { "patience": 1 } },
              "workers": { "min": 2, "max": 2 }
            }
            """)!.AsObject();
        change?.Invoke(spec);
        return new TrainingJob
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "plateau", Generation = 1, ResourceVersion = "1", Uid = Guid.NewGuid().ToString() },
            Spec = spec,
        };
    }
}
