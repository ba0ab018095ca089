namespace Plateau.Contracts.Specs;

/// <summary>
/// Checks a model name and options against the model registry (Plateau.Models), so this project
/// needs no TorchSharp. Returns messages about <c>spec.model</c>; empty when the model is fine.
/// </summary>
public delegate IEnumerable<SpecError> ModelCheck(ModelSpec model);
