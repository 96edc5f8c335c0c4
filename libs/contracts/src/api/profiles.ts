/** POST /api/profiles */
export interface CreateProfileRequest {
  name: string;
  description?: string;
}
export interface ProfileView {
  id: string;
  name: string;
  description: string;
  createdAt: string;
}
/** The provisioning key is shown once (on creation and rotation): only its hash is stored. */
export interface ProfileCreatedResponse extends ProfileView {
  provisioningKey: string;
}
