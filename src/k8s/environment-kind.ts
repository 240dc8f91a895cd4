/**
 * The kind of an environment: what it is for, and the rules that come with it.
 */
export class EnvironmentKind {
  /** Serves users. Exactly one per model; its resources are protected from deletion on targets that support it. */
  public static readonly PRODUCTION = new EnvironmentKind('production');
  /** Pre-production: same machinery as production, any number of them. */
  public static readonly STAGING = new EnvironmentKind('staging');
  /** For iteration: at most one replica, scales to zero, takes no rollout (Baseten's development deployments). */
  public static readonly DEVELOPMENT = new EnvironmentKind('development');

  /** The names that mean a kind of their own: an environment with one of them has that kind, and no custom kind takes them. */
  public static readonly RESERVED_NAMES: string[] = ['production', 'staging', 'development'];

  /**
   * A named environment with staging's rules (`canary-eu`, `shadow`, ...). A reserved name (`production`,
   * `staging`, `development`) is refused where the kind is used: a custom kind called `production` would escape
   * production's rules.
   */
  public static custom(name: string): EnvironmentKind {
    return new EnvironmentKind(name);
  }

  /** The kind an environment name implies: `production`, `staging` and `development` map to their kinds. */
  public static fromName(name: string): EnvironmentKind {
    if (name === 'production') return EnvironmentKind.PRODUCTION;
    if (name === 'staging') return EnvironmentKind.STAGING;
    if (name === 'development') return EnvironmentKind.DEVELOPMENT;
    return EnvironmentKind.custom(name);
  }

  private constructor(
    /** The kind's name. */
    public readonly name: string,
  ) {}

  /** Whether this is the production kind. */
  public get isProduction(): boolean {
    return this === EnvironmentKind.PRODUCTION;
  }

  /** Whether this is a custom kind (not one of the three built-in ones). */
  public get isCustom(): boolean {
    return this !== EnvironmentKind.PRODUCTION && this !== EnvironmentKind.STAGING && this !== EnvironmentKind.DEVELOPMENT;
  }

  /** Whether this is the development kind. */
  public get isDevelopment(): boolean {
    return this === EnvironmentKind.DEVELOPMENT;
  }
}
