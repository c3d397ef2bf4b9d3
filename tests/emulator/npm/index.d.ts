/** The absolute path of the iproov-emulator executable inside this package. */
export declare const binaryPath: string;
