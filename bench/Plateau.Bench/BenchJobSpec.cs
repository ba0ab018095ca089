using System.Globalization;

namespace Plateau.Bench;

/// <summary>
/// The job the load benchmarks submit: SE-ResNet-20 on the synthetic set, shaped like
/// examples/se-resnet20-synthetic.yaml, for a number of single-device workers. The batch is per device, so
/// any world size forms.
/// </summary>
internal static class BenchJobSpec
{
    /// <summary>Samples each rank takes per step.</summary>
    public const int PerDeviceBatch = 32;

    /// <summary>The spec as a user would submit it (YAML).</summary>
    public static string Yaml(string name, int workers, double rendezvousTimeoutSeconds) => string.Create(CultureInfo.InvariantCulture, $"""
        apiVersion: plateau/v1
        name: {name}
        model:
          name: se_resnet20_cifar
        dataset:
          kind: synthetic
        epochs: 12
        batch:
          perDevice: {PerDeviceBatch}
        optimizer:
          lr: 0.1
          momentum: 0.9
          weightDecay: 1e-4
        schedule:
          plateau:
            metric: val_top1_error
            patience: 1
            factor: 0.1
        evaluation:
          everyEpochs: 1
        workers:
          min: {workers}
          max: {workers}
          rendezvousTimeoutSeconds: {rendezvousTimeoutSeconds}
        seed: 1
        """);
}
